assert "q\"\n\t\${x}" == "y"; 1
