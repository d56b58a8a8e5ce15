greeting_default() { echo Hello; }
