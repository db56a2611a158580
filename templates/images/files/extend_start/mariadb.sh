# kolla_extend_start for mariadb, sourced by kolla_start as root.
# The image ships an empty datadir (the package's build-time one was removed), so the first start
# initialises it on the volume; a KOLLA_BOOTSTRAP run stops there, as kolla's does.
install -d -o mysql -g mysql -m 0755 /run/mysqld
chown mysql:mysql /var/lib/mysql
if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
        --auth-root-authentication-method=socket >/dev/null
fi
if [ -n "${KOLLA_BOOTSTRAP+set}" ]; then
    exit 0
fi
