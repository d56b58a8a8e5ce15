true - 1
