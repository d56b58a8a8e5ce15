# nixrs-flags:
(x: { r = 1 + x; a = x; }) (2 * 3)
