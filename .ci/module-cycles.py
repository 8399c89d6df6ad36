"""Prints the module dependency cycles of each crate's src/ and exits 1 if there is one.

A module depends on another when it names it in a `crate::…` or `super::…` path (file level);
a child naming its parent is not counted, since the parent declares it. Tests are left out.
Usage: module-cycles.py crates/*/src
"""
import os, re, sys


def cycles(root):
    mods = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith('.rs'): continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)[:-3].split(os.sep)
            if rel[-1] in ('mod', 'lib', 'main'): rel = rel[:-1]
            if 'tests' in rel or rel[-1:] == ['tests']: continue
            mods[tuple(rel)] = path
    def resolve(parts):
        # the longest known module prefix
        for n in range(len(parts), -1, -1):
            if tuple(parts[:n]) in mods: return tuple(parts[:n])
        return ()
    edges = {m: set() for m in mods}
    for m, path in mods.items():
        text = open(path).read()
        text = re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*', '', text, flags=re.S)
        for use in re.findall(r'\b(crate|super)((?:::\w+)+)', text):
            head, tail = use
            parts = [p for p in tail.split('::') if p]
            # `super` in module x::y is x, whether y is y.rs or y/mod.rs.
            base = [] if head == 'crate' else list(m[:-1])
            while parts and parts[0] == 'super':
                base = base[:-1]; parts = parts[1:]
            target = resolve(base + parts)
            if target != m and not (len(target) < len(m) and m[:len(target)] == target) :
                edges[m].add(target)
    # A depth-first search reports at least one cycle of every strongly connected component.
    sys.setrecursionlimit(10000)
    found = set()
    def dfs(node, stack, onstack):
        for t in edges.get(node, ()):
            if t in onstack:
                cyc = stack[stack.index(t):] + [t]
                key = frozenset(cyc)
                if key not in found:
                    found.add(key); print(root + ': ' + ' -> '.join('::'.join(c) or 'crate' for c in cyc))
            elif t not in visited:
                visited.add(t); stack.append(t); onstack.add(t)
                dfs(t, stack, onstack)
                stack.pop(); onstack.discard(t)
    visited = set()
    for m in mods:
        if m not in visited:
            visited.add(m); dfs(m, [m], {m})
    return found, len(mods)


total = 0
for root in sys.argv[1:]:
    found, count = cycles(root)
    print(f'{root}: {len(found)} cycles among {count} modules')
    total += len(found)
sys.exit(1 if total else 0)
