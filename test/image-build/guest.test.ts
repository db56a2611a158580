// Unit tests of the guest image's pure parts: the initramfs archive (order, layout, bytes), the MBR,
// the cache key, module ordering, package names, the recipe, and the KVM probe's command line.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sourceDateEpoch } from '../../src/image-build/guest/build.js';
import { type CpioEntry, cpioStream, orderEntries } from '../../src/image-build/guest/cpio.js';
import { elfNeeded, missingLibraries } from '../../src/image-build/guest/elf.js';
import { guestKey } from '../../src/image-build/guest/key.js';
import { chs, mbrSector } from '../../src/image-build/guest/mbr.js';
import { loadOrder, modinfoDepends } from '../../src/image-build/guest/modules.js';
import { debFileName, kernelDependency } from '../../src/image-build/guest/packages.js';
import { type GuestRecipe, loadGuestRecipe } from '../../src/image-build/guest/recipe.js';
import { detectVirtType, probeArgs } from '../../src/image-build/guest/virt-type.js';

async function archive(entries: CpioEntry[], mtime = 1704067200): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of cpioStream(entries, mtime)) parts.push(b);
  return Buffer.concat(parts);
}

interface Parsed {
  name: string;
  ino: number;
  mode: number;
  mtime: number;
  data: Buffer;
  rdev: [number, number];
}

/** parseNewc reads an archive back, checking magic and 4-byte alignment as the kernel does. */
function parseNewc(buf: Buffer): Parsed[] {
  const out: Parsed[] = [];
  let at = 0;
  for (;;) {
    assert.equal(at % 4, 0, 'every header is 4-byte aligned');
    const h = buf.subarray(at, at + 110).toString('ascii');
    assert.equal(h.slice(0, 6), '070701');
    const f = (i: number): number => Number.parseInt(h.slice(6 + 8 * i, 14 + 8 * i), 16);
    const nameSize = f(11);
    const name = buf.subarray(at + 110, at + 110 + nameSize - 1).toString();
    let dataAt = at + 110 + nameSize;
    dataAt += (4 - (dataAt % 4)) % 4;
    const size = f(6);
    const data = buf.subarray(dataAt, dataAt + size);
    at = dataAt + size;
    at += (4 - (at % 4)) % 4;
    if (name === 'TRAILER!!!') {
      assert.equal(at, buf.length, 'nothing after the trailer');
      return out;
    }
    out.push({ name, ino: f(0), mode: f(1), mtime: f(5), data, rdev: [f(9), f(10)] });
  }
}

describe('guest initramfs (cpio newc)', () => {
  const entries: CpioEntry[] = [
    { path: 'usr/sbin/dropbear', kind: 'file', mode: 0o755, size: 3, source: Buffer.from('abc') },
    { path: '/init', kind: 'file', mode: 0o755, size: 5, source: Buffer.from('#!sh\n') },
    { path: 'dev/console', kind: 'char', mode: 0o600, major: 5, minor: 1 },
    { path: 'bin/sh', kind: 'symlink', target: 'busybox' },
    { path: 'root', kind: 'dir', mode: 0o700 },
  ];

  it('lists parents first, sorted bytewise, with inode numbers in that order and one mtime', async () => {
    const parsed = parseNewc(await archive(entries));
    assert.deepEqual(
      parsed.map((p) => p.name),
      ['bin', 'bin/sh', 'dev', 'dev/console', 'init', 'root', 'usr', 'usr/sbin', 'usr/sbin/dropbear'],
    );
    assert.deepEqual(
      parsed.map((p) => p.ino),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.ok(parsed.every((p) => p.mtime === 1704067200));
    const byName = new Map(parsed.map((p) => [p.name, p]));
    assert.equal(byName.get('root')?.mode, 0o040700);
    assert.equal(byName.get('bin')?.mode, 0o040755, 'a missing parent is a 0755 folder');
    assert.equal(byName.get('bin/sh')?.mode, 0o120777);
    assert.equal(byName.get('bin/sh')?.data.toString(), 'busybox');
    assert.equal(byName.get('dev/console')?.mode, 0o020600);
    assert.deepEqual(byName.get('dev/console')?.rdev, [5, 1]);
    assert.equal(byName.get('usr/sbin/dropbear')?.data.toString(), 'abc');
  });

  it('gives the same bytes whatever the input order; another mtime changes them', async () => {
    const a = await archive(entries);
    assert.deepEqual(await archive([...entries].reverse()), a);
    assert.notDeepEqual(await archive(entries, 1704067201), a);
  });

  it('streams file contents from disk and notices a size that changed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpio-'));
    try {
      await writeFile(join(dir, 'f'), 'hello');
      const parsed = parseNewc(
        await archive([{ path: 'f', kind: 'file', mode: 0o644, size: 5, source: join(dir, 'f') }]),
      );
      assert.equal(parsed[0]?.data.toString(), 'hello');
      await assert.rejects(
        archive([{ path: 'f', kind: 'file', mode: 0o644, size: 4, source: join(dir, 'f') }]),
        /changed while archiving/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a path twice, ".." and a file used as a folder', () => {
    assert.throws(() => orderEntries([entries[0] as CpioEntry, entries[0] as CpioEntry]), /listed twice/);
    assert.throws(() => orderEntries([{ path: 'a/../b', kind: 'dir', mode: 0o755 }]), /bad initramfs path/);
    assert.throws(
      () =>
        orderEntries([
          { path: 'a', kind: 'file', mode: 0o644, size: 0, source: Buffer.alloc(0) },
          { path: 'a/b', kind: 'dir', mode: 0o755 },
        ]),
      /is a file and a folder/,
    );
  });
});

describe('guest disk MBR', () => {
  it('puts boot code, disk signature, one bootable partition and 0x55AA where BIOSes look', () => {
    const boot = Buffer.alloc(440, 0xab);
    const s = mbrSector(boot, 0x6f636731, [{ bootable: true, type: 0x0e, startLba: 2048, sectors: 63488 }]);
    assert.equal(s.length, 512);
    assert.deepEqual(s.subarray(0, 440), boot);
    assert.equal(s.readUInt32LE(440), 0x6f636731);
    assert.equal(s[446], 0x80);
    assert.equal(s[450], 0x0e);
    assert.equal(s.readUInt32LE(454), 2048);
    assert.equal(s.readUInt32LE(458), 63488);
    assert.deepEqual([...s.subarray(447, 450)], [32, 33, 0], 'CHS of LBA 2048 (255 heads, 63 sectors)');
    assert.deepEqual([...s.subarray(462, 510)], new Array(48).fill(0), 'the other three slots are empty');
    assert.equal(s.readUInt16BE(510), 0x55aa);
  });

  it('caps CHS at 1023/254/63 and refuses oversized boot code or a partition at LBA 0', () => {
    assert.deepEqual(chs(0), [0, 1, 0]);
    assert.deepEqual(chs(1024 * 255 * 63), [254, 0xc0 | 63, 0xff]);
    assert.throws(() => mbrSector(Buffer.alloc(441), 0, []), /at most 440/);
    assert.throws(
      () => mbrSector(Buffer.alloc(0), 0, [{ bootable: false, type: 6, startLba: 0, sectors: 1 }]),
      /bad start/,
    );
  });
});

describe('guest cache key', () => {
  const recipe = (over: Partial<GuestRecipe> = {}): GuestRecipe =>
    ({
      name: 'g',
      kernel: { package: 'linux-image-amd64', cmdline: 'console=ttyS0' },
      modules: ['virtio_net'],
      files: [{ package: 'busybox-static', path: 'bin/busybox' }],
      tools: ['mtools'],
      disk: {
        size_mib: 32,
        start_sector: 2048,
        partition_type: 14,
        disk_signature: 1,
        fat_serial: 2,
        fat_label: 'X',
      },
      source_date_epoch: 1704067200,
      path: '/a/guest.yaml',
      templates: [
        { rel: 'files/init', abs: '/a/files/init', mode: 0o755, bytes: Buffer.from('#!/bin/sh\n') },
      ],
      packages: ['busybox-static', 'linux-image-amd64', 'mtools'],
      ...over,
    }) as GuestRecipe;
  const versions = {
    'busybox-static': '1:1.35.0-4',
    'linux-image-6.1.0-57-amd64': '6.1.192-3',
    mtools: '4.0.32-1',
  };
  const base = guestKey({ recipe: recipe(), versions, epoch: 1704067200 });

  it('is stable, and ignores where the recipe lives', () => {
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(guestKey({ recipe: recipe(), versions, epoch: 1704067200 }), base);
    const moved = recipe({
      path: '/b/guest.yaml',
      templates: [
        { rel: 'files/init', abs: '/b/files/init', mode: 0o755, bytes: Buffer.from('#!/bin/sh\n') },
      ],
    });
    assert.equal(guestKey({ recipe: moved, versions, epoch: 1704067200 }), base);
  });

  it('changes with a package version, a template byte or mode, a recipe field or the epoch', () => {
    const keys = [
      guestKey({ recipe: recipe(), versions: { ...versions, mtools: '4.0.33-1' }, epoch: 1704067200 }),
      guestKey({
        recipe: recipe({
          templates: [{ rel: 'files/init', abs: '', mode: 0o755, bytes: Buffer.from('#!/bin/sh \n') }],
        }),
        versions,
        epoch: 1704067200,
      }),
      guestKey({
        recipe: recipe({
          templates: [{ rel: 'files/init', abs: '', mode: 0o644, bytes: Buffer.from('#!/bin/sh\n') }],
        }),
        versions,
        epoch: 1704067200,
      }),
      guestKey({ recipe: recipe({ modules: ['virtio_net', 'isofs'] }), versions, epoch: 1704067200 }),
      guestKey({ recipe: recipe(), versions, epoch: 1704067201 }),
    ];
    for (const k of keys) assert.notEqual(k, base);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('SOURCE_DATE_EPOCH overrides the recipe epoch, and a bad one is refused', () => {
    assert.equal(sourceDateEpoch(recipe(), {}), 1704067200);
    assert.equal(sourceDateEpoch(recipe(), { SOURCE_DATE_EPOCH: '1700000000' }), 1700000000);
    assert.throws(
      () => sourceDateEpoch(recipe(), { SOURCE_DATE_EPOCH: 'yesterday' }),
      /SOURCE_DATE_EPOCH=yesterday/,
    );
  });
});

describe('guest kernel modules and packages', () => {
  it('reads depends= from .modinfo', () => {
    const ko = Buffer.from(
      '\x7fELF...\0license=GPL\0depends=virtio,virtio_ring,net-failover\0intree=Y\0name=virtio_net\0',
    );
    assert.deepEqual(modinfoDepends(ko), ['virtio', 'virtio_ring', 'net_failover']);
    assert.deepEqual(modinfoDepends(Buffer.from('\0depends=\0name=virtio\0')), []);
    assert.throws(() => modinfoDepends(Buffer.from('not a module')), /no depends=/);
  });

  it('orders dependencies first, each once, stably; a cycle is an error', () => {
    const deps: Record<string, string[]> = {
      virtio_net: ['virtio', 'net_failover', 'virtio_ring'],
      net_failover: ['failover'],
      virtio: ['virtio_ring'],
      virtio_blk: ['virtio', 'virtio_ring'],
    };
    const order = loadOrder(['virtio_net', 'virtio-blk'], (n) => deps[n] ?? []);
    assert.deepEqual(order, [
      'failover',
      'net_failover',
      'virtio_ring',
      'virtio',
      'virtio_net',
      'virtio_blk',
    ]);
    assert.throws(() => loadOrder(['a'], (n) => (n === 'a' ? ['b'] : ['a'])), /cycle: a -> b -> a/);
  });

  it("reads the kernel image from the metapackage's dependencies; names .debs as apt-get download does", () => {
    const text = 'linux-image-amd64\n  Depends: linux-image-6.1.0-57-amd64\n';
    assert.equal(kernelDependency(text, 'linux-image-amd64'), 'linux-image-6.1.0-57-amd64');
    assert.throws(
      () => kernelDependency('linux-image-amd64\n', 'linux-image-amd64'),
      /depends on no linux-image/,
    );
    assert.equal(
      debFileName('busybox-static', '1:1.35.0-4+deb12u1+b1', 'amd64'),
      'busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb',
    );
  });
});

describe('guest recipe', () => {
  it('the shipped recipe loads: kernel, dropbear with its libraries, tools, init and syslinux.cfg', async () => {
    const r = await loadGuestRecipe();
    assert.equal(r.name, 'overcloud-guest');
    for (const p of ['linux-image-amd64', 'busybox-static', 'dropbear-bin', 'libgmp10', 'syslinux', 'mtools'])
      assert.ok(r.packages.includes(p), p);
    assert.deepEqual(r.packages, [...r.packages].sort());
    const init = r.templates.find((t) => t.rel === 'files/init');
    assert.equal(init?.mode, 0o755);
    for (const m of ['network up', 'metadata ok', 'sshd up', 'probe ok'])
      assert.ok(init?.bytes.toString().includes(`mark "${m}`), `init prints "overcloud-guest: ${m}"`);
  });

  it('a bad field is RECIPE_INVALID naming the file and line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'guest-recipe-'));
    try {
      const path = join(dir, 'guest.yaml');
      await writeFile(
        path,
        'name: g\nkernel: { package: linux-image-amd64, cmdline: x }\nmodules: [virtio_net]\nfiles: [{ package: a1, path: bin/x }]\ntools: []\ndisk: { size_mib: 4, start_sector: 2048, partition_type: 14, disk_signature: 1, fat_serial: 1, fat_label: X }\nsource_date_epoch: 1704067200\n',
      );
      await assert.rejects(loadGuestRecipe(path), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'RECIPE_INVALID');
        assert.match(e.message, new RegExp(`${path}:6: disk.size_mib`));
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('KVM detection', () => {
  it('boots the kernel with -accel kvm and the probe flag, no disk, no network', () => {
    const argv = probeArgs('kvm', { kernel: '/k', initramfs: '/i', timeoutMs: 1000 }, '/s.log');
    const at = (flag: string): string | undefined => argv[argv.indexOf(flag) + 1];
    assert.equal(at('-accel'), 'kvm');
    assert.equal(at('-kernel'), '/k');
    assert.equal(at('-initrd'), '/i');
    assert.match(at('-append') ?? '', /\bovercloud\.probe\b/);
    assert.equal(at('-nic'), 'none');
    assert.equal(at('-serial'), 'file:/s.log');
    assert.ok(argv.includes('-no-reboot'), 'the guest powering off ends qemu');
    assert.ok(!argv.includes('-drive'));
  });

  it('answers qemu without booting when the device is missing', async () => {
    const d = await detectVirtType(
      { kernel: '/nonexistent', initramfs: '/nonexistent', timeoutMs: 1000, qemu: '/nonexistent/qemu' },
      '/nonexistent/kvm',
    );
    assert.equal(d.virtType, 'qemu');
    assert.match(d.reason, /\/nonexistent\/kvm is absent/);
  });
});

describe('guest libraries (ELF DT_NEEDED)', () => {
  it("reads a dynamic program's needs and says undefined for a non-ELF file", async () => {
    const needs = elfNeeded(await readFile(process.execPath));
    assert.ok(needs?.includes('libc.so.6'), `node needs libc.so.6: ${needs}`);
    assert.equal(elfNeeded(Buffer.from('#!/bin/sh\necho hi\n')), undefined);
  });

  it('names each program whose library no loader folder provides', () => {
    const files = new Map<string, string[] | undefined>([
      ['usr/sbin/dropbear', ['libtomcrypt.so.1', 'libc.so.6']],
      ['usr/lib/x86_64-linux-gnu/libtomcrypt.so.1', ['libgmp.so.10', 'libc.so.6']],
      ['lib/x86_64-linux-gnu/libc.so.6', ['ld-linux-x86-64.so.2']],
      ['lib64/ld-linux-x86-64.so.2', []],
      ['bin/busybox', []],
      ['etc/libgmp.so.10', undefined],
    ]);
    assert.deepEqual(missingLibraries(files), ['usr/lib/x86_64-linux-gnu/libtomcrypt.so.1: libgmp.so.10']);
    files.set('usr/lib/x86_64-linux-gnu/libgmp.so.10', ['libc.so.6']);
    assert.deepEqual(missingLibraries(files), []);
  });
});
