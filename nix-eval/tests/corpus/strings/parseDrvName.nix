map builtins.parseDrvName [ "hello-1.0" "hello-world-2.1pre" "nover" "a-b-c" "foo--1" ]
