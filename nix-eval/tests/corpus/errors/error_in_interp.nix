"a${throw "interp"}b"
