let n = "q"; in { a = 1; }.${n}
