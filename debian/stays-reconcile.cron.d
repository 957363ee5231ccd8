# /etc/cron.d/stays-reconcile - run stays-reconcile and pin-runner from cron.
#
# Every line is commented out: nothing runs until you turn it on.  Either
# uncomment the two lines of ONE ACCOUNT below, or use the systemd timers
# instead (never both); see /usr/share/doc/stays-reconcile/README.Debian.
#
# Both programs are silent when all is well: anything they print (errors on
# stderr, one line per problem) is mailed by cron to MAILTO.
#
#MAILTO=root
#SHELL=/bin/sh
#PATH=/usr/bin:/bin
#
# m     h  dom mon dow  user   command
#
# ONE ACCOUNT: /etc/stays-reconcile.conf, database in /var/lib/stays-reconcile.
# Every 30 minutes (keep it equal to "[schedule] cron" in the configuration):
# fetch the reservations from Stays and update the PIN schedule.
#*/30    *  *   *   *    stays  stays-reconcile
# Every minute: create and revoke the PINs that are due on the Tuya locks.
#*       *  *   *   *    stays  pin-runner
#
# SEVERAL ACCOUNTS: one pair of lines per account, each with its own
# configuration, whose [database] path is its own folder, e.g.
# /etc/stays-reconcile/rio.conf with path = /var/lib/stays-reconcile/rio/stays.db
# (install -d -o stays -g stays -m 700 /var/lib/stays-reconcile/rio).
#*/30    *  *   *   *    stays  stays-reconcile -c /etc/stays-reconcile/rio.conf
#*       *  *   *   *    stays  pin-runner -c /etc/stays-reconcile/rio.conf
#*/30    *  *   *   *    stays  stays-reconcile -c /etc/stays-reconcile/lisbon.conf
#*       *  *   *   *    stays  pin-runner -c /etc/stays-reconcile/lisbon.conf
