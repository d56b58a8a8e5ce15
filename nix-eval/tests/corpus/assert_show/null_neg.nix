assert -1 == null; 1
