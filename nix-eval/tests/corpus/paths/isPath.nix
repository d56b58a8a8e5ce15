map builtins.isPath [ ./x "/x" ]
