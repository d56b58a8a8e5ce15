"quote \" backslash \\ dollar-brace \${ nl \n cr \r tab \t"
