/**
 * 0009: a running job records which workstation claimed it and until when its claim holds (a
 * lease the workstation renews while it works). On a database several workstations share, a
 * workstation that starts requeues only its own interrupted jobs and those whose lease ran out,
 * never the jobs another live workstation is running. Times are ISO-8601 text, as elsewhere.
 */
export const up = `
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
ALTER TABLE jobs ADD COLUMN lease_until TEXT;
`;
