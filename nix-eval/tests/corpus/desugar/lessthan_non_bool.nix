let __lessThan = a: b: "not a bool"; in 1 <= 2
