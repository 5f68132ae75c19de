import { buildTenants, parseFixture } from './src/sandbox-cloud/fixture';
const fixture = parseFixture({ tenants: [{ id: '11111111-2222-4333-8444-555555555555', cloud: 'global', displayName: 'Big', domains: [{ name: 'big.example' }], generate: { users: 100000, groups: 2000, groupsPerUser: 3, nesting: 3, seed: 7 } }] });
const t = performance.now();
buildTenants(fixture);
console.log('build', Math.round(performance.now() - t));
