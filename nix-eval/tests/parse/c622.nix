# comment
/* c2 */
x: # trailing
  x /* mid */ + 1
