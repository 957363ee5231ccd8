/*
 * pins.h - `stays-reconcile pins`: the PINs that may open a door, from the
 * database (and, with --remote, compared with what each lock lists), and
 * --resend, which runs the on_pin hook again for a reservation.
 * reconcile.c owns the command table; this prints and returns an exit
 * status.
 */
#ifndef STAYS_PINS_H
#define STAYS_PINS_H

#include "cli.h"

/*
 * stays-reconcile pins [--lock DEVICE] [--remote] [--json] [--show-pin]
 * stays-reconcile pins --resend CODE [--lock DEVICE]
 *
 * Without --remote: read-only, no run lock, no network; 0.  --remote: 1
 * when the locks and the database disagree, else 0 (Tuya errors as
 * err_exitcode()).  --resend: 0 when on_pin succeeded for every live
 * credential of CODE (notified_at recorded), 1 when one failed, 65 when
 * there is none, 78 without [hooks] on_pin.
 */
int cmd_pins(struct global *g, int argc, char **argv);

#endif
