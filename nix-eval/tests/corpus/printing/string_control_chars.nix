"a\rb\tc"
