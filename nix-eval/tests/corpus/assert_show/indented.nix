assert ''
  line
'' == ""; 1
