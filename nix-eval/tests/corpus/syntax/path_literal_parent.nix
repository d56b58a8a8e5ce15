../syntax/x/../y
