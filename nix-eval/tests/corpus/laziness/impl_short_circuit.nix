false -> throw "no"
