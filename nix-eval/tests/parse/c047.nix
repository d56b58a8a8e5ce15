"multi
line"