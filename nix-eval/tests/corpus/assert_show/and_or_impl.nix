assert (true && false) || (false -> false) && !true; 1
