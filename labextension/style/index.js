import './base.css';
import './result.css';
