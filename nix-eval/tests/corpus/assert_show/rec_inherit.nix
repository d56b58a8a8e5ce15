let x = false; in assert (rec { inherit x; y = x; }).y; 1
