/**
 * @module image-build/users
 * Fixed service accounts. kolla gives every service user the same uid/gid in every image
 * (kolla/common/users.py: from 42400 up, "only increment, never reuse"), so that a host folder or
 * a volume bind-mounted into several images is owned by the same account in all of them. Debian's
 * packages instead create their users at install time with the next free id, so `keystone` and
 * `neutron` both end up as uid 101 in their own images. The base layer therefore creates every
 * account below before any package runs; the packages' postinst scripts then find the account
 * and keep it (`adduser --system` and openstack-pkg-tools' `getent` checks).
 *
 * The table is append-only: never change or reuse an id (images already in use and data on
 * nodes carry them). Ids are kolla's (checked against kolla's users.py); `account` is the name
 * when Debian's package uses another one than kolla.
 */

export interface ServiceAccount {
  /** kolla's name for the account (its users.py key without `-user`) */
  kolla: string;
  uid: number;
  gid: number;
  /** the user name Debian's package creates, when it is not kolla's name */
  account?: string;
  /** the primary group's name, when it is not the user name (kolla: hacluster/haclient) */
  group?: string;
  /** the home folder Debian's package gives the user, when it is not /var/lib/<name> */
  home?: string;
}

const table: ServiceAccount[] = [
  { kolla: 'kolla', uid: 42400, gid: 42400 },
  { kolla: 'ansible', uid: 42401, gid: 42401 },
  { kolla: 'aodh', uid: 42402, gid: 42402 },
  { kolla: 'barbican', uid: 42403, gid: 42403 },
  { kolla: 'bifrost', uid: 42404, gid: 42404 },
  { kolla: 'ceilometer', uid: 42405, gid: 42405 },
  { kolla: 'cinder', uid: 42407, gid: 42407 },
  { kolla: 'cloudkitty', uid: 42408, gid: 42408 },
  { kolla: 'collectd', uid: 42409, gid: 42409 },
  { kolla: 'congress', uid: 42410, gid: 42410 },
  { kolla: 'designate', uid: 42411, gid: 42411 },
  { kolla: 'elasticsearch', uid: 42412, gid: 42412 },
  { kolla: 'etcd', uid: 42413, gid: 42413 },
  { kolla: 'freezer', uid: 42414, gid: 42414 },
  { kolla: 'glance', uid: 42415, gid: 42415 },
  { kolla: 'gnocchi', uid: 42416, gid: 42416 },
  { kolla: 'grafana', uid: 42417, gid: 42417 },
  { kolla: 'heat', uid: 42418, gid: 42418 },
  { kolla: 'horizon', uid: 42420, gid: 42420 },
  { kolla: 'influxdb', uid: 42421, gid: 42421 },
  { kolla: 'ironic', uid: 42422, gid: 42422 },
  { kolla: 'kafka', uid: 42423, gid: 42423 },
  { kolla: 'keystone', uid: 42425, gid: 42425 },
  { kolla: 'kibana', uid: 42426, gid: 42426 },
  { kolla: 'qemu', uid: 42427, gid: 42427 },
  { kolla: 'magnum', uid: 42428, gid: 42428 },
  { kolla: 'manila', uid: 42429, gid: 42429 },
  { kolla: 'mistral', uid: 42430, gid: 42430 },
  { kolla: 'monasca', uid: 42431, gid: 42431 },
  { kolla: 'mongodb', uid: 42432, gid: 42432 },
  { kolla: 'murano', uid: 42433, gid: 42433 },
  // Debian's mariadb-server: home /nonexistent
  { kolla: 'mysql', uid: 42434, gid: 42434, home: '/nonexistent' },
  { kolla: 'neutron', uid: 42435, gid: 42435 },
  { kolla: 'nova', uid: 42436, gid: 42436 },
  { kolla: 'octavia', uid: 42437, gid: 42437 },
  { kolla: 'rabbitmq', uid: 42439, gid: 42439 },
  { kolla: 'rally', uid: 42440, gid: 42440 },
  { kolla: 'sahara', uid: 42441, gid: 42441 },
  { kolla: 'senlin', uid: 42443, gid: 42443 },
  { kolla: 'solum', uid: 42444, gid: 42444 },
  { kolla: 'swift', uid: 42445, gid: 42445 },
  { kolla: 'tacker', uid: 42446, gid: 42446 },
  { kolla: 'td-agent', uid: 42447, gid: 42447 },
  { kolla: 'telegraf', uid: 42448, gid: 42448 },
  { kolla: 'trove', uid: 42449, gid: 42449 },
  { kolla: 'vmtp', uid: 42450, gid: 42450 },
  { kolla: 'watcher', uid: 42451, gid: 42451 },
  { kolla: 'zookeeper', uid: 42453, gid: 42453 },
  { kolla: 'haproxy', uid: 42454, gid: 42454 },
  // Debian's memcached package runs as `memcache` (home /nonexistent)
  { kolla: 'memcached', uid: 42457, gid: 42457, account: 'memcache', home: '/nonexistent' },
  { kolla: 'vitrage', uid: 42459, gid: 42459 },
  { kolla: 'redis', uid: 42460, gid: 42460 },
  { kolla: 'ironic-inspector', uid: 42461, gid: 42461 },
  { kolla: 'odl', uid: 42462, gid: 42462 },
  { kolla: 'zun', uid: 42463, gid: 42463 },
  { kolla: 'dragonflow', uid: 42464, gid: 42464 },
  { kolla: 'qdrouterd', uid: 42465, gid: 42465 },
  { kolla: 'ec2api', uid: 42466, gid: 42466 },
  { kolla: 'sensu', uid: 42467, gid: 42467 },
  { kolla: 'skydive', uid: 42468, gid: 42468 },
  { kolla: 'kuryr', uid: 42469, gid: 42469 },
  { kolla: 'blazar', uid: 42471, gid: 42471 },
  { kolla: 'prometheus', uid: 42472, gid: 42472 },
  // kolla keeps this user unused but needs the group (libvirt's socket); Debian's
  // libvirt-daemon-system creates the same group name
  { kolla: 'libvirt', uid: 42473, gid: 42473 },
  { kolla: 'fluentd', uid: 42474, gid: 42474 },
  { kolla: 'almanach', uid: 42475, gid: 42475 },
  { kolla: 'openvswitch', uid: 42476, gid: 42476 },
  { kolla: 'hugetlbfs', uid: 42477, gid: 42477 },
  { kolla: 'logstash', uid: 42478, gid: 42478 },
  { kolla: 'storm', uid: 42479, gid: 42479 },
  { kolla: 'tempest', uid: 42480, gid: 42480 },
  { kolla: 'nfast', uid: 42481, gid: 42481 },
  { kolla: 'placement', uid: 42482, gid: 42482 },
  { kolla: 'cyborg', uid: 42483, gid: 42483 },
  { kolla: 'masakari', uid: 42485, gid: 42485 },
  // Debian's pacemaker, like kolla, uses the group name haclient
  { kolla: 'hacluster', uid: 42486, gid: 42486, group: 'haclient' },
  { kolla: 'proxysql', uid: 42487, gid: 42487 },
  { kolla: 'letsencrypt', uid: 42488, gid: 42488 },
  { kolla: 'venus', uid: 42489, gid: 42489 },
  { kolla: 'opensearch', uid: 42490, gid: 42490 },
  { kolla: 'skyline', uid: 42491, gid: 42491 },
  { kolla: 'opensearch-dashboards', uid: 42492, gid: 42492 },
];

/** SERVICE_ACCOUNTS is kolla's table, in id order (new entries go at the end, with new ids). */
export const SERVICE_ACCOUNTS: readonly Readonly<ServiceAccount>[] = Object.freeze(
  table.map((a) => Object.freeze(a)),
);

/** The group every service user is also in: kolla's shared log folder /var/log/kolla is its. */
export const KOLLA_GROUP = 'kolla';

/**
 * Highest id the fixed accounts may use. adduser only treats an existing account as "already
 * there" (exit 0) when its id lies in the system range, so the base widens that range to here.
 */
export const FIXED_ID_CEILING = 42999;

/** userName is the account's user name in the images. */
export const userName = (a: ServiceAccount): string => a.account ?? a.kolla;

/** groupName is the account's primary group's name. */
export const groupName = (a: ServiceAccount): string => a.group ?? userName(a);

/** homeOf is the account's home folder (not created: the package that uses it makes it). */
export const homeOf = (a: ServiceAccount): string => a.home ?? `/var/lib/${userName(a)}`;

/** accountFor finds the fixed account of a user name (Debian's name or kolla's). */
export function accountFor(
  name: string,
  accounts: readonly ServiceAccount[] = SERVICE_ACCOUNTS,
): ServiceAccount | undefined {
  return accounts.find((a) => userName(a) === name) ?? accounts.find((a) => a.kolla === name);
}

/**
 * accountsScript is the shell that creates every account, for the base layer's RUN. `useradd -l`
 * keeps lastlog/faillog from growing a sparse record per uid (42000 records, megabytes in the
 * layer). Homes are not created: an account's package makes its own folders, as it would have.
 */
export function accountsScript(accounts: readonly ServiceAccount[] = SERVICE_ACCOUNTS): string {
  const conf = [
    `LAST_SYSTEM_UID=${FIXED_ID_CEILING}`,
    `LAST_SYSTEM_GID=${FIXED_ID_CEILING}`,
    `FIRST_UID=${FIXED_ID_CEILING + 1}`,
    `FIRST_GID=${FIXED_ID_CEILING + 1}`,
  ];
  const steps = [`printf '%s\\n' ${conf.join(' ')} >> /etc/adduser.conf`];
  for (const a of accounts) {
    const user = userName(a);
    const extra = user === KOLLA_GROUP ? '' : ` -G ${KOLLA_GROUP}`;
    steps.push(
      `groupadd -g ${a.gid} ${groupName(a)}`,
      `useradd -l -M -u ${a.uid} -g ${a.gid}${extra} -d ${homeOf(a)} -s /usr/sbin/nologin ${user}`,
    );
  }
  return steps.join(' && ');
}
