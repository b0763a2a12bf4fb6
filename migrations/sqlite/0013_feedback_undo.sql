-- "Hide as abusive" can be undone by an owner within 30 days: the day it
-- was hidden (in the organization's time zone, like the thread's other
-- days). Threads hidden before this have none and stay hidden.
ALTER TABLE feedback_threads ADD COLUMN hidden_day TEXT;
