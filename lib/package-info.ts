/** The package's own name and version, found from wherever this file was compiled to. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface PackageJson {
  name: string;
  version: string;
}

function findPackageJson(start: string): PackageJson {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const parsed = JSON.parse(readFileSync(candidate, 'utf8')) as Partial<PackageJson>;
      if (parsed.name === '@fluxfill/node-red-bfl') return { name: parsed.name, version: parsed.version ?? '0.0.0' };
    }
    const parent = dirname(dir);
    if (parent === dir) return { name: '@fluxfill/node-red-bfl', version: '0.0.0' };
    dir = parent;
  }
}

export const PACKAGE = findPackageJson(__dirname);
export const USER_AGENT = `${PACKAGE.name}/${PACKAGE.version}`;
