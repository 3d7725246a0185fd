// The job page's actions (placeholder).
'use strict';
