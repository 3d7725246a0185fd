// The cluster page (placeholder).
'use strict';
