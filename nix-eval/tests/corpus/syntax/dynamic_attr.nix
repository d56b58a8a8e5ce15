let k = "key"; in { ${k} = 1; "lit${k}" = 2; }
