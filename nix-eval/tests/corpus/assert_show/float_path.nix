assert 1.5 == ./p; 1
