// @vitest-environment node
// The generator of src/api/contract.gen.ts, run as the build runs it, on the JSON Schema forms pydantic emits.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = resolve(__dirname, '../scripts/gen-types.mjs');

/** What pydantic's models_json_schema writes: titles on every property, enums as $defs, 2020-12 tuples. */
const pydanticLike = {
  title: 'shapes',
  $defs: {
    Status: { enum: ['pending', 'connected'], title: 'Status', type: 'string' },
    User: {
      title: 'User',
      type: 'object',
      properties: {
        id: { title: 'Id', type: 'string', format: 'uuid' },
        username: { anyOf: [{ type: 'string' }, { type: 'null' }], title: 'Username' },
        title: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null, title: 'Title' },
      },
      required: ['id', 'username'],
    },
    Hit: {
      title: 'Hit',
      description: 'A search hit.',
      type: 'object',
      properties: {
        user: { $ref: '#/$defs/User' },
        status: { $ref: '#/$defs/Status' },
        reply: { anyOf: [{ $ref: '#/$defs/User' }, { type: 'null' }], title: 'Reply' },
        highlights: {
          title: 'Highlights',
          type: 'array',
          items: { type: 'array', maxItems: 2, minItems: 2, prefixItems: [{ type: 'integer' }, { type: 'integer' }] },
        },
      },
      required: ['user', 'status', 'reply', 'highlights'],
    },
  },
};

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gen-types-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function generate(schema: unknown): Promise<string> {
  const input = join(dir, 'schema.json');
  const output = join(dir, 'out.ts');
  await writeFile(input, JSON.stringify(schema));
  await run(process.execPath, [script, input, output]);
  return readFile(output, 'utf8');
}

describe('gen-types', () => {
  it('declares one type per definition, named by its key, and nothing else', async () => {
    const ts = await generate(pydanticLike);
    const declared = [...ts.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]).sort();
    expect(declared).toEqual(['Hit', 'Status', 'User']);
    expect(ts).toContain('export type Status = "pending" | "connected";');
    expect(ts).toMatch(/username: string \| null;/);
    expect(ts).toMatch(/title\?: string \| null;/); // a property called "title" stays a property
    expect(ts).toMatch(/reply: User \| null;/);
    expect(ts).toMatch(/highlights: \[number, number\]\[\];/);
    expect(ts).toContain('A search hit.');
    expect(ts).not.toMatch(/\[k: string\]/); // no index signatures: a misspelt field is a type error
  });

  it('fails, writing nothing, on a schema without $defs', async () => {
    const output = join(dir, 'none.ts');
    const input = join(dir, 'bad.json');
    await writeFile(input, JSON.stringify({ title: 'no defs' }));
    await expect(run(process.execPath, [script, input, output])).rejects.toMatchObject({
      stderr: expect.stringContaining('$defs') as unknown,
    });
    await expect(readFile(output, 'utf8')).rejects.toThrow();
  });
});
