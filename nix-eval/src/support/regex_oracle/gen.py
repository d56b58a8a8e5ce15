import json, subprocess, sys
def nixstr(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"').replace('${', '\\${').replace('\n', '\\n').replace('\t','\\t') + '"'
def run(kind, pat, s):
    e = f'builtins.toJSON (builtins.{kind} {nixstr(pat)} {nixstr(s)})'
    r = subprocess.run(['nix-instantiate', '--eval', '--strict', '-E', e], capture_output=True, text=True)
    if r.returncode != 0:
        err = r.stderr.splitlines()[0]
        if 'memory limit' in err: return 'ERR space'
        if 'invalid regular expression' in err: return 'ERR invalid'
        return 'ERR ' + err
    return json.loads(r.stdout)
def rs(s):
    return json.dumps(s, ensure_ascii=False)
out = []
for kind, fn in (('match', 'match_cases.txt'), ('split', 'split_cases.txt')):
    for line in open(fn, encoding='utf-8').read().split('\n'):
        if line == '' : continue
        pat, s = line.split('\t', 1)
        s = s.replace('\\n', '\n') if pat == '[\\n]+' else s
        res = run(kind, pat, s)
        out.append(f'    ({rs(kind)}, {rs(pat)}, {rs(s)}, {rs(res)}),')
print('\n'.join(out))
