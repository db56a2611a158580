# kolla_extend_start for rabbitmq, sourced by kolla_start as root.
# The package's build-time Erlang cookie was removed from the image: each deployment brings its
# own, through config.json (dest /var/lib/rabbitmq/.erlang.cookie) or RABBITMQ_ERLANG_COOKIE.
COOKIE=/var/lib/rabbitmq/.erlang.cookie
if [ -n "${RABBITMQ_ERLANG_COOKIE:-}" ]; then
    printf '%s' "$RABBITMQ_ERLANG_COOKIE" > "$COOKIE"
fi
if [ ! -s "$COOKIE" ]; then
    echo "kolla_extend_start: no Erlang cookie: provide $COOKIE in config.json or RABBITMQ_ERLANG_COOKIE" >&2
    exit 1
fi
chown rabbitmq:rabbitmq "$COOKIE" /var/lib/rabbitmq /var/lib/rabbitmq/mnesia /var/log/rabbitmq
chmod 0400 "$COOKIE"
# /usr/sbin/rabbitmq-server would send output to a log file; logs go to the container instead.
export RABBITMQ_LOGS=- HOME=/var/lib/rabbitmq
