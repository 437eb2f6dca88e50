"""Every Celery task's name, written once: used by the tasks, by dispatch and by the beat schedule.

The web app never imports ``workers`` (an import contract says so), so it names tasks by
string; keeping the strings here means a rename cannot leave a nudge or a schedule entry
pointing at nothing (``tests/core/test_task_names.py`` checks each one is registered).
"""

from __future__ import annotations

DRAIN_OUTBOX = "workers.tasks.mail.drain_outbox"
FOLD_COUNTS = "workers.tasks.counting.fold_counts"
RECONCILE_COUNTS = "workers.tasks.counting.reconcile_counts"
RUN_EXPORT = "workers.tasks.exports.run_export"
SWEEP_EXPORTS = "workers.tasks.exports.sweep_exports"
DELIVER_WEBHOOKS = "workers.tasks.webhooks.deliver_webhooks"
SEND_MAILING = "workers.tasks.mailings.send_mailing"
RESUME_MAILINGS = "workers.tasks.mailings.resume_mailings"
CHECK_MILESTONES = "workers.tasks.mailings.check_milestones"
APPLY_RETENTION = "workers.tasks.supporters.apply_retention"
SEND_REMINDERS = "workers.tasks.gatherings.send_reminders"
DELIVER_LETTERS = "workers.tasks.letters.deliver_letters"
SEND_LETTER_DIGESTS = "workers.tasks.letters.send_letter_digests"
FOLD_LETTER_COUNTS = "workers.tasks.letters.fold_letter_counts"
RECONCILE_LETTER_COUNTS = "workers.tasks.letters.reconcile_letter_counts"
SCAN_ABUSE = "workers.tasks.abuse.scan"
RUN_INVALIDATION = "workers.tasks.abuse.run_invalidation"
UNDO_INVALIDATION = "workers.tasks.abuse.undo_invalidation"
