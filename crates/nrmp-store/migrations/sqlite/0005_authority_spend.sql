-- Local-authority children's-services spend per child by year (issue 6): published public
-- finance figures that the statistics model missing rates against. Kept in the register so
-- that every server node and the command line use the same table.
CREATE TABLE authority_spend (
    authority        TEXT NOT NULL REFERENCES organisations (code),
    year             INTEGER NOT NULL,
    spend_per_child  REAL NOT NULL,
    PRIMARY KEY (authority, year)
);
