"""Prints the module dependency cycles of each crate's src/ and exits 1 if there is one.

A module depends on another when it names it in a `crate::…`, `super::…` or `child::…` path, or
in a `crate::{…}` group (file level). A module naming an item of its parent module is not
counted, since the parent declares it, except for the crate root: lib.rs and main.rs may only
declare modules and re-export, so every edge to the root that defines items counts. Tests are
left out.
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
    root_text = open(mods[()]).read() if () in mods else ''
    root_defines_items = re.search(
        r'^\s*(pub(\([^)]*\))?\s+)?(struct|enum|fn|async fn|const|static|trait|type|impl|macro_rules!)\b',
        re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*', '', root_text, flags=re.S),
        flags=re.M,
    ) is not None
    edges = {m: set() for m in mods}
    for m, path in mods.items():
        text = open(path).read()
        text = re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*', '', text, flags=re.S)
        uses = re.findall(r'\b(crate|super)((?:::\w+)+)', text)
        for head, group in re.findall(r'\b(crate|super)::\{([^}]*)\}', text):
            for member in group.split(','):
                member = member.strip().split(' as ')[0]
                if member:
                    uses.append((head, '::' + member.replace(' ', '')))
        children = [c[-1] for c in mods if len(c) == len(m) + 1 and c[:len(m)] == m]
        for child in children:
            if re.search(r'(?<![:\w])' + child + r'::', text):
                uses.append(('self', '::' + child))
        for use in uses:
            head, tail = use
            parts = [p for p in tail.split('::') if p]
            # `super` in module x::y is x, whether y is y.rs or y/mod.rs.
            base = {'crate': [], 'self': list(m)}.get(head, list(m[:-1]))
            while parts and parts[0] == 'super':
                base = base[:-1]; parts = parts[1:]
            target = resolve(base + parts)
            is_ancestor = len(target) < len(m) and m[:len(target)] == target
            if target != m and (not is_ancestor or (target == () and root_defines_items)):
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
