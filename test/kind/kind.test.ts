// The kind test's pure helpers: the environment's exports and what counts as a change of the machine.
import { machineDiff, parseExports, parseSysctls, REAL_NODE_SYSCTLS, type MachineSnapshot } from './kind.js';

const snapshot = (o: Partial<MachineSnapshot> = {}): MachineSnapshot => ({
  sysctls: { 'kernel.panic': '1', 'fs.file-max': '100' },
  mounts: ['/', '/proc'],
  links: ['lo', 'eth0'],
  netns: [],
  iptables: [],
  paths: { '/lib/modules': false },
  ...o,
});

test('parseExports reads the export lines env.sh writes', () => {
  expect(parseExports('export DOCKER_HOST=unix:///run/x/docker.sock\nexport KIND_NODE_IMAGE=vigil.local/kind-node:v1-ab\nnot an export\n')).toEqual({
    DOCKER_HOST: 'unix:///run/x/docker.sock',
    KIND_NODE_IMAGE: 'vigil.local/kind-node:v1-ab',
  });
});

test('parseSysctls leaves out the counters that change on their own', () => {
  expect(parseSysctls('fs.file-max = 100\nfs.file-nr = 1 0 100\nkernel.random.uuid = x\nnet.ipv4.ip_forward = 0\n')).toEqual({ 'fs.file-max': '100', 'net.ipv4.ip_forward': '0' });
});

test('machineDiff names every change: sysctls, mounts, links, namespaces, rules, paths', () => {
  const after = snapshot({
    sysctls: { 'kernel.panic': '10', 'fs.file-max': '9223372036854775807' },
    mounts: ['/', '/proc', '/lib/modules'],
    links: ['lo'],
    netns: ['vigil-kind'],
    iptables: ['iptables-save -A FORWARD -j DOCKER'],
    paths: { '/lib/modules': true },
  });
  expect(machineDiff(snapshot(), after)).toEqual([
    'sysctl kernel.panic: 1 -> 10',
    'sysctl fs.file-max: 100 -> 9223372036854775807',
    'mount added: /lib/modules',
    'link gone: eth0',
    'netns added: vigil-kind',
    'rule added: iptables-save -A FORWARD -j DOCKER',
    'path /lib/modules: created',
  ]);
  expect(machineDiff(snapshot(), snapshot())).toEqual([]);
});

test("machineDiff leaves out the real node's entries, and its kubelet sysctls only while it runs", () => {
  const others = snapshot({ mounts: ['/', '/proc', '/work/x/.local/node/var/lib/kubelet/pods/p/volumes/v'], links: ['lo', 'eth0', 'vigil-node0'], netns: ['vigil-node', 'cni-1'] });
  expect(machineDiff(snapshot(), others)).toEqual([]);
  expect(REAL_NODE_SYSCTLS).toContain('kernel.panic');
  const panicked = { sysctls: { 'kernel.panic': '10', 'fs.file-max': '100' } };
  expect(machineDiff(snapshot(), snapshot({ ...panicked, netns: ['vigil-node'] }))).toEqual([]);
  expect(machineDiff(snapshot(), snapshot(panicked))).toEqual(['sysctl kernel.panic: 1 -> 10']);
});
