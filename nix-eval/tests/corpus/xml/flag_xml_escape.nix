# nixrs-flags: --strict --xml
"a<b>&\"c'\nd"
