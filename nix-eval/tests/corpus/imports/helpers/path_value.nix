./some/where
