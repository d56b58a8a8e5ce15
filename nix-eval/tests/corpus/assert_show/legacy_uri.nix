assert http://x.org/ == ""; 1
