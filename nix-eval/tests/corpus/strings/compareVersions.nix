with builtins; map (p: compareVersions (elemAt p 0) (elemAt p 1)) [ ["1.0" "2.3"] ["2.3" "2.3"] ["2.3pre1" "2.3"] ["2.3.1" "2.3a"] ["1.0rc1" "1.0"] ["99999999999" "1"] ]
