# nixrs-flags: --strict -A abe
{ abc = 1; abd = 2; xyz = 3; }
