// The job page's graph (placeholder: replaced by the layered view).
'use strict';
