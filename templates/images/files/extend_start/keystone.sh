# kolla_extend_start for keystone, sourced by kolla_start as root.
# Key repositories are normally volumes filled by the deployment; an empty one gets fresh keys so
# that a single container can serve tokens. KOLLA_BOOTSTRAP syncs the database (as the keystone
# user, so no file ends up root-owned) and, given KEYSTONE_ADMIN_PASSWORD, bootstraps the admin
# user and identity endpoints at KEYSTONE_PUBLIC_URL; then it exits, as kolla's bootstrap does.
install -d -o keystone -g keystone -m 0750 /etc/keystone/fernet-keys /etc/keystone/credential-keys
install -d -o keystone -g keystone -m 0755 /var/lib/keystone /var/log/keystone
if [ ! -e /etc/keystone/fernet-keys/0 ]; then
    keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone
fi
if [ ! -e /etc/keystone/credential-keys/0 ]; then
    keystone-manage credential_setup --keystone-user keystone --keystone-group keystone
fi
if [ -n "${KOLLA_BOOTSTRAP+set}" ]; then
    setpriv --reuid=keystone --regid=keystone --init-groups keystone-manage db_sync
    if [ -n "${KEYSTONE_ADMIN_PASSWORD:-}" ]; then
        URL=${KEYSTONE_PUBLIC_URL:-http://127.0.0.1:5000/v3/}
        setpriv --reuid=keystone --regid=keystone --init-groups keystone-manage bootstrap \
            --bootstrap-password "$KEYSTONE_ADMIN_PASSWORD" --bootstrap-admin-url "$URL" \
            --bootstrap-internal-url "$URL" --bootstrap-public-url "$URL" \
            --bootstrap-region-id "${KEYSTONE_REGION:-RegionOne}"
    fi
    exit 0
fi
