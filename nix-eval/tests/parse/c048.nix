"cr
lf"