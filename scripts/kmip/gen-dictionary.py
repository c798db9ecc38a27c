#!/usr/bin/env python3
"""
Generates protocol/kmip/dictionary/*.ts, the KMIP tag, enumeration and mask
tables, from the two OASIS specifications kept beside the test cases
(../shared/kmip-test-cases/v1.4/kmip-spec-v1.4-os.html and
v2.1/kmip-spec-v2.1-os.html): the Tag table (v2.1 section 11.56, v1.4
section 9.1.3.1), every "X Enumeration" table (v2.1 section 11, v1.4 section
9.1.3.2) and the bit masks (v2.1 section 12, v1.4 section 9.1.3.3).

Names are normalized as the KMIP XML and JSON encodings define (KMIP
Additional Message Encodings / Profiles, "Normalizing Names"): brackets become
spaces; a non-word character followed by a letter and then a lower-case letter
becomes a space; other non-word characters become "_"; leading digits of the
first word move to its end; each word is capitalized and the spaces removed.

v2.1 wins where both versions define a value; v1.4 adds what 2.x reserved
(Template, Attribute Index, ...). Run: python3 scripts/kmip/gen-dictionary.py
"""
import html
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
CASES = os.environ.get('KMIP_TEST_CASES', os.path.normpath(os.path.join(ROOT, '..', 'shared', 'kmip-test-cases')))
OUT = os.path.join(ROOT, 'protocol', 'kmip', 'dictionary')
SPECS = [('2.1', os.path.join(CASES, 'v2.1', 'kmip-spec-v2.1-os.html')), ('1.4', os.path.join(CASES, 'v1.4', 'kmip-spec-v1.4-os.html'))]
MAX_LINES = 400

# Spelling fixes: the v2.1 table writes the mask generator "MFG1"; the test
# cases and RFC 8017 write MGF1.
RENAMES = {('MaskGenerator', 'MFG1'): 'MGF1'}

# Enumerations the specification defines by reference rather than by table
# (v2.1 sections 11.38 and 11.39): a PKCS#11 Function is the 1-based position
# of the function in PKCS#11 v3.0's CK_FUNCTION_LIST_3_0 (general-purpose
# functions first), a PKCS#11 Return Code is the CK_RV value (CKR_OK = 0).
SUPPLEMENTS = {
    'PKCS_11Function': [(1, 'C_Initialize'), (2, 'C_Finalize'), (3, 'C_GetInfo'), (4, 'C_GetFunctionList')],
    'PKCS_11ReturnCode': [(0, 'OK')],
}


def clean(fragment):
    text = html.unescape(re.sub(r'<[^>]+>', ' ', fragment))
    return re.sub(r'[\s\xa0\u200b]+', ' ', text).strip()


def tables(path):
    source = open(path, encoding='windows-1252', errors='replace').read()
    heads = [(m.start(), clean(m.group(0))) for m in re.finditer(r'<h[1-6][^>]*>.*?</h[1-6]>', source, re.S | re.I)]
    for m in re.finditer(r'<table.*?</table>', source, re.S | re.I):
        rows = [[clean(c.group(0)) for c in re.finditer(r'<td.*?</td>', r.group(0), re.S | re.I)]
                for r in re.finditer(r'<tr.*?</tr>', m.group(0), re.S | re.I)]
        before = [h for p, h in heads if p < m.start()]
        yield (before[-1] if before else ''), rows


def normalize(name):
    name = re.sub(r'[()]', ' ', name)
    name = re.sub(r'[^\w\s](?=[A-Za-z][a-z])', ' ', name)
    name = re.sub(r'[^\w\s]', '_', name)
    words = name.split()
    if not words:
        return ''
    m = re.match(r'^(\d+)(.+)$', words[0])
    if m:
        words[0] = m.group(2) + m.group(1)
    return ''.join(w[0].upper() + w[1:] for w in words)


def hex_value(text):
    # A value cell is hex digits, sometimes followed by a note: "00000006 (deprecated)".
    m = re.fullmatch(r'([0-9A-Fa-f]{6,8})(\s*\(deprecated[^)]*\))?', text.strip())
    return int(m.group(1), 16) if m else None


def usable(name):
    return name and not name.startswith('(') and name != 'Extensions' and not name.startswith('Unused')


def heading_name(heading):
    title = re.sub(r'^[\d.]+\s*', '', heading)
    title = re.sub(r'\s*Enumeration$', '', title)
    return normalize(title)


def main():
    tags, enums, masks = {}, {}, {}
    for version, path in SPECS:
        for heading, rows in tables(path):
            if len(rows) < 3:
                continue
            header = rows[1][:2]
            if rows[0] and rows[0][0] == 'Tag' and header in (['Name', 'Value'], ['Object', 'Tag Value']):
                for row in rows[2:]:
                    value = hex_value(row[1]) if len(row) > 1 else None
                    name = normalize(row[0])
                    if value is not None and usable(row[0]) and value not in tags:
                        tags[value] = name
                continue
            if header != ['Name', 'Value'] or not re.match(r'^[\d.]+ ', heading):
                continue
            is_mask = re.match(r'^(12|9\.1\.3\.3)\.', heading) is not None
            if not is_mask and not heading.endswith('Enumeration'):
                continue
            target = masks if is_mask else enums
            entries = target.setdefault(heading_name(heading), [])
            known = {v for v, _ in entries}
            for row in rows[2:]:
                value = hex_value(row[1]) if len(row) > 1 else None
                if value is None or not usable(row[0]) or value in known:
                    continue
                name = normalize(row[0])
                entries.append((value, RENAMES.get((heading_name(heading), name), name)))
                known.add(value)
    for name, entries in SUPPLEMENTS.items():
        enums[name] = list(entries)
    for entries in list(enums.values()) + list(masks.values()):
        entries.sort()
    write(tags, enums, masks)


def chunks(lines, size):
    part, count = [], 0
    for group in lines:
        if count + len(group) > size and part:
            yield part
            part, count = [], 0
        part.append(group)
        count += len(group)
    if part:
        yield part


def pairs(entries, indent):
    lines, line = [], indent
    for value, name in entries:
        item = f"[0x{value:08x}, '{name}'], "
        if len(line) + len(item) > 118:
            lines.append(line.rstrip())
            line = indent
        line += item
    lines.append(line.rstrip())
    return lines


HEADER = '''/**
 * {what}, generated by scripts/kmip/gen-dictionary.py from the KMIP
 * specifications v2.1 (section {v21}) and v1.4 (section {v14}): data, not code.
 * Names are normalized as the KMIP XML/JSON encodings spell them. Do not edit
 * by hand; rerun the script.
 */
'''


def write(tags, enums, masks):
    os.makedirs(OUT, exist_ok=True)
    tag_lines = [[f"  [0x{value:06x}, '{name}'],"] for value, name in sorted(tags.items())]
    tag_parts = list(chunks(tag_lines, MAX_LINES - 20))
    names = []
    for i, part in enumerate(tag_parts, 1):
        const = f'KMIP_TAGS_{i}'
        names.append((f'tags-{i}', const))
        body = '\n'.join(line for group in part for line in group)
        emit(f'tags-{i}.ts', HEADER.format(what=f'KMIP tags, part {i} of {len(tag_parts)}', v21='11.56', v14='9.1.3.1'),
             f'export const {const}: ReadonlyArray<readonly [number, string]> = [\n{body}\n];\n')
    enum_groups = [[f'  {name}: ['] + pairs(entries, '    ') + ['  ],'] for name, entries in sorted(enums.items())]
    enum_parts = list(chunks(enum_groups, MAX_LINES - 20))
    for i, part in enumerate(enum_parts, 1):
        const = f'KMIP_ENUMERATIONS_{i}'
        names.append((f'enumerations-{i}', const))
        body = '\n'.join(line for group in part for line in group)
        emit(f'enumerations-{i}.ts', HEADER.format(what=f'KMIP enumerations, part {i} of {len(enum_parts)}', v21='11', v14='9.1.3.2'),
             f'export const {const}: Readonly<Record<string, ReadonlyArray<readonly [number, string]>>> = {{\n{body}\n}};\n')
    mask_body = '\n'.join(line for name, entries in sorted(masks.items()) for line in [f'  {name}: ['] + pairs(entries, '    ') + ['  ],'])
    emit('masks.ts', HEADER.format(what='KMIP bit masks (Integer values written as flag names)', v21='12', v14='9.1.3.3'),
         f'export const KMIP_MASKS: Readonly<Record<string, ReadonlyArray<readonly [number, string]>>> = {{\n{mask_body}\n}};\n')
    print(json.dumps({'tags': len(tags), 'enumerations': len(enums), 'masks': len(masks), 'files': [n for n, _ in names]}))


def emit(filename, header, body):
    with open(os.path.join(OUT, filename), 'w') as f:
        f.write(header + body)


if __name__ == '__main__':
    sys.exit(main())
