/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * bounce.h: the delivery status notification (RFC 3464, a
 * multipart/report) sent to the envelope sender of a spooled message
 * whose recipients failed for good (a 5xx, or max_age passed).
 *
 * The bounce is itself committed to the spool (null sender, marked as a
 * bounce so that it is never bounced in turn) and delivered by the same
 * run, through the same upstream.  It carries a human part, the
 * message/delivery-status part with one block per failed recipient, and
 * the original header block (text/rfc822-headers), or the whole message
 * (message/rfc822) when the sender asked for RET=FULL.
 */
#ifndef POSTERN_BOUNCE_H
#define POSTERN_BOUNCE_H

#include "postern/spool.h"

struct config;
struct err;

/*
 * Commit the bounce for env (whose queue file is open at fd) to sp;
 * bid receives its id.  Only for a message with a sender that is not a
 * bounce itself: the caller checks.
 */
int bounce_commit(struct spool *sp, const struct config *,
    const struct spool_env *env, int fd, char bid[SPOOL_ID_MAX], struct err *);

#endif
