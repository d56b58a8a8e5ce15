/tmp/x + "y"
