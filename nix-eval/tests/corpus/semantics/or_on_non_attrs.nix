(1).a or 2
