-- Indexes for the service's list endpoints (issue 5): open incidents by risk, by owner, by
-- authority (through placements), persons by owner, found persons by date.
CREATE INDEX incidents_open ON incidents (last_seen_at, id) WHERE found_at IS NULL;
CREATE INDEX incidents_risk ON incidents (risk, last_seen_at);
CREATE INDEX incidents_owner ON incidents (owning_org, last_seen_at);
CREATE INDEX placements_placing ON placements (placing_authority);
CREATE INDEX placements_host ON placements (host_authority);
CREATE INDEX persons_owner ON persons (owning_org, id);
CREATE INDEX found_persons_found ON found_persons (found_at, id);
