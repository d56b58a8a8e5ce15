# the inner lambda of `g = a: { x }: …` is named 'g' too
let g = a: { x }: x + a; in g 1 { }
