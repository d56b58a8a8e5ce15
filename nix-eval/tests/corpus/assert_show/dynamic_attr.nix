let n = "a"; in assert { ${n} = 1; "q r" = 2; }.${n} == 2; 1
